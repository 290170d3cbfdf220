// Load a generated module without touching the disk.
const code = await (await fetch("https://gateway.local/tools/codegen")).text();
const mod = await import("data:application/javascript," + encodeURIComponent(code));
console.log(mod.default());
