-- Issue 16, a proxy who is also a patient: portal.proxies.patient_id records that they are the
-- same person, so one sign-in can switch between their own record and the people they follow
-- (sql/definitions/66_same_person.sql). One person has one proxy identity: two proxies naming the
-- same patient would make "switch to family access" ambiguous.
CREATE UNIQUE INDEX proxies_patient_idx ON portal.proxies (patient_id) WHERE patient_id IS NOT NULL;
