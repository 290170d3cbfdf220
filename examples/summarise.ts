// The code-first pattern in miniature: the data stays in the sandbox, the
// program filters and aggregates it, and only a short answer goes back to
// the model.
const rows = Array.from({ length: 50_000 }, (_, i) => ({
  level: ["info", "warn", "error"][i % 7 === 0 ? 2 : i % 3 === 0 ? 1 : 0],
  ms: (i * 37) % 500,
}));
const errors = rows.filter((r) => r.level === "error");
const p95 = errors.map((r) => r.ms).sort((a, b) => a - b)[Math.floor(errors.length * 0.95)];
console.log(`${rows.length} rows, ${errors.length} errors, error p95 ${p95} ms`);
