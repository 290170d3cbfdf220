// Poll a job until it finishes, with a bounded number of attempts.
let attempts = 0;
while (true) {
  const st = await sluice.call("jobs.status", { id: "42" });
  if (st.state === "done" || ++attempts > 20) break;
  await new Promise((r) => setTimeout(r, 500));
}
console.log("attempts:", attempts);
