// Read and write only inside the job's workspace.
const raw = await Deno.readTextFile("/work/input.csv");
const rows = raw.split("\n").filter((l) => l.length > 0).map((l) => l.split(","));
const total = rows.reduce((s, r) => s + Number(r[2] ?? 0), 0);
await Deno.writeTextFile("/work/summary.json", JSON.stringify({ rows: rows.length, total }));
console.log(`wrote summary for ${rows.length} rows`);
