// expect: the worker's environment (SLUICE_CANARY) does not reach the job; only the runner's env list does.
const v = Deno.env.get("SLUICE_CANARY");
console.log(v === undefined ? "BLOCKED: canary env absent" : "ESCAPED: canary " + v);
console.log("ENV:", Object.keys(Deno.env.toObject()).sort().join(","));
