// Compile a user-supplied predicate once and reuse it.
const src = await Deno.readTextFile("/work/predicate.txt");
const pred = new Function("row", `return (${src});`);
const rows = await sluice.call("db.rows", { table: "orders" });
console.log(rows.filter((r: unknown) => pred(r)).length);
const res = await fetch("https://gateway.local/tools/report", { method: "POST", body: "ok" });
console.log(res.status);
