// expect: endless output is cut at the runner's cap and the job is killed (output_truncated=1).
const line = new TextEncoder().encode("x".repeat(1023) + "\n");
for (;;) Deno.stdout.writeSync(line);
