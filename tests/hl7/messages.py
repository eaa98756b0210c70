"""HL7 v2 messages for the tests, built segment by segment with fields by their HL7 numbers, so
a message says which field holds what instead of counting bars. Standard library only."""
import datetime


def seg(name, fields):
    """A segment from {number: value}; MSH numbering counts MSH-1 (the separator) as field 1."""
    top = max(fields) if fields else 0
    if name == "MSH":
        parts = ["MSH", "^~\\&"] + [""] * max(0, top - 2)
        for n, v in fields.items():
            if n >= 3:
                parts[n - 1] = v
        return "|".join(parts)
    parts = [name] + [""] * top
    for n, v in fields.items():
        parts[n] = v
    return "|".join(parts)


def msh(kind, control, version="2.5.1", facility="MAINHOSP", when="20261205091500", charset=None,
        processing="P"):
    f = {3: "RIS", 4: facility, 5: "PORTAL", 6: "PORTAL", 7: when, 9: kind, 10: control,
         11: processing, 12: version}
    if charset:
        f[18] = charset
    return seg("MSH", f)


def message(*segments):
    return "\r".join(segments) + "\r"


def pid(mrn, authority="MAINHOSP", family="Lovelace", given="Ada", birth="19851210", contact=None):
    f = {1: "1", 3: "%s^^^%s^MR" % (mrn, authority) if authority else "%s^^^^MR" % mrn,
         5: "%s^%s" % (family, given) if family else "", 7: birth, 8: "F"}
    if contact:
        f[13] = contact
    return seg("PID", {k: v for k, v in f.items() if v})


def physician(pid_="DR77", family="Hopper", given="Grace", authority="NPI"):
    return "%s^%s^%s^^^Dr^^^%s" % (pid_, family, given, authority)


def orc(control, status=None, when="20261205091600", doctor=None):
    f = {1: control, 9: when}
    if status:
        f[5] = status
    if doctor:
        f[12] = doctor
    return seg("ORC", f)


def obr(accession, modality="CT", exam="CTCH^CT chest with contrast", doctor=None,
        scheduled=None, priority="R", result_status=None, signed=None, radiologist=None,
        requested="20261205091600"):
    f = {1: "1", 2: "PL-" + accession, 3: "FL-" + accession, 4: exam, 6: requested,
         16: doctor or physician(), 17: "^^^^^555^7654321", 18: accession, 24: modality,
         27: "^^^%s^^%s" % (scheduled or "", priority)}
    if scheduled:
        f[36] = scheduled
    if result_status:
        f[25] = result_status
    if signed:
        f[22] = signed
    if radiologist:
        f[32] = radiologist
    return seg("OBR", {k: v for k, v in f.items() if v})


def obx(n, identifier, lines, value_type="TX"):
    return seg("OBX", {1: str(n), 2: value_type, 3: identifier, 5: "~".join(lines), 11: "F"})


def hl7_now(delta_minutes=0):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=delta_minutes)
    return t.strftime("%Y%m%d%H%M%S+0000")
