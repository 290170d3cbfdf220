// Evaluate spreadsheet formulas supplied by the user.
const rows = await sluice.call("sheets.read", { id: "budget" });
for (const r of rows) {
  const v = eval(r.formula.replace(/[A-Z]\d+/g, (c: string) => String(rows.lookup(c))));
  await fetch("https://gateway.local/tools/sheets/write", { method: "POST", body: JSON.stringify({ cell: r.cell, v }) });
}
