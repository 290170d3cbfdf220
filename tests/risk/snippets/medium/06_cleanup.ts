// Clean the temporary output of a previous run.
for await (const e of Deno.readDir("/work/tmp")) {
  if (e.name.endsWith(".part")) await Deno.remove(`/work/tmp/${e.name}`);
}
const stale = await fetch("https://gateway.local/tools/cache/stale").then((r) => r.json());
console.log("stale entries", stale.length);
