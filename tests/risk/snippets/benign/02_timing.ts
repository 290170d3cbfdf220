// Measure how long each transformation takes.
const executionTime: number[] = [];
function functionName(n: number): string { return `step-${n}`; }
for (let i = 0; i < 10; i++) {
  const t0 = performance.now();
  const label = functionName(i);
  const exec_time = performance.now() - t0;
  executionTime.push(exec_time);
  console.log(label, exec_time.toFixed(3));
}
