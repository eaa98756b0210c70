// Walks a patient's reports with fhir-kit-client, a FHIR client nobody here wrote: reads the
// CapabilityStatement, searches DiagnosticReport a page at a time following the server's next
// links, reads each report found, then tries to read each id given on the command line as
// someone else's. Prints one JSON object: what it received and the statuses of the refusals.
// Usage: node client.mjs BASE_URL TOKEN PAGE_SIZE [FOREIGN_ID ...]
import { Client } from 'fhir-kit-client';

const [baseUrl, token, pageSize, ...foreign] = process.argv.slice(2);
const client = new Client({ baseUrl, bearerToken: token });
const out = { capability: null, pages: [], reads: [], foreign: [] };

out.capability = await client.capabilityStatement();
let bundle = await client.search({ resourceType: 'DiagnosticReport', searchParams: { _count: pageSize } });
while (bundle) {
  out.pages.push(bundle);
  bundle = await client.nextPage({ bundle });
}
for (const page of out.pages) {
  for (const entry of page.entry ?? []) {
    if (entry.search?.mode !== 'match') continue;
    out.reads.push(await client.read({ resourceType: 'DiagnosticReport', id: entry.resource.id }));
  }
}
for (const id of foreign) {
  try {
    await client.read({ resourceType: 'DiagnosticReport', id });
    out.foreign.push({ id, status: 200 });
  } catch (err) {
    out.foreign.push({ id, status: err?.response?.status ?? null, body: err?.response?.data ?? null });
  }
}
process.stdout.write(JSON.stringify(out) + '\n');
