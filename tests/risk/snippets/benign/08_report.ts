/**
 * Build a markdown report from CRM records fetched via MCP tools.
 * The records are filtered in the sandbox; only counts leave it.
 */
const leads = await sluice.call("crm.list_leads", { limit: 500 });
const byStage = new Map<string, number>();
for (const l of leads.items) byStage.set(l.stage, (byStage.get(l.stage) ?? 0) + 1);
const lines = [...byStage.entries()].map(([s, n]) => `| ${s} | ${n} |`);
console.log(["| stage | count |", "|---|---|", ...lines].join("\n"));
