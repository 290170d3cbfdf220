// One worker to parse a big file off the main thread.
const w = new Worker(new URL("./parse.ts", import.meta.url).href, { type: "module" });
w.postMessage({ path: "/work/big.json" });
w.onmessage = (e) => { console.log("parsed", e.data.count); w.terminate(); };
