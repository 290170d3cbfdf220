// Node-compatible config loader.
import process from "node:process";
const debug = process.env.DEBUG === "1";
const cfg = JSON.parse(await Deno.readTextFile("/work/config.json"));
if (debug) console.log(cfg);
