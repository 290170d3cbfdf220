// Find the tools we need and summarise open tickets.
const tools = await sluice.search("ticket", { detail: "name" });
const evaluation = { passed: 0, failed: 0 };
for (const t of tools) {
  const r = await sluice.call(t.name, { status: "open" });
  if (r.ok) evaluation.passed++; else evaluation.failed++;
}
console.log(JSON.stringify(evaluation));
