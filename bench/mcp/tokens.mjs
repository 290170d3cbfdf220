// Token benchmark: direct tool calling vs. code-first MCP (docs/BENCHMARKS.md,
// section "Code-first MCP tokens").
//
//   make && node bench/mcp/tokens.mjs [--markdown]
//
// Every tool listing and tool result below is REAL: the three reference MCP
// servers from node_modules (memory, filesystem, everything) run as child
// processes and are driven with the official SDK client; the code-first
// listing and schemas are what build/bin/sluice-mcp's search_tools returns
// (worker/gateway.c's rendering over worker/mcp_pool.c).  Tokens are counted
// with gpt-tokenizer's o200k_base encoding.
//
// What each side counts (the task prompt itself is the same on both sides and
// is left out of both):
//   direct      every tool schema of every server (JSON {name, description,
//               input_schema}), once; each tool call the model writes (name +
//               JSON arguments); each tool result's text content as the model
//               receives it; the final answer.
//   code-first  sluice-mcp's own two tool schemas; the compact listing
//               (search_tools, detail=description, every tool); the full
//               schemas of the tools the program uses (search_tools,
//               detail=full); the program the model writes; the execute_code
//               result (program stdout + status line); the final answer.
// The code-first programs are executed for real against the same servers;
// the only difference from a farm run is the transport: calls go through the
// SDK here instead of prelude.ts -> gateway (not wired into the runner yet).
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { encode } from "gpt-tokenizer/encoding/o200k_base";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const ROOT = resolve(new URL("../..", import.meta.url).pathname);
const markdown = process.argv.includes("--markdown");
const tok = (s) => encode(typeof s === "string" ? s : JSON.stringify(s)).length;
const dir = mkdtempSync(join(tmpdir(), "sluice-tokbench-"));
const files = join(dir, "files");

// ---- deterministic data ----------------------------------------------------
let seed = 7;
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const cities = ["Lisbon", "Oslo", "Nairobi", "Lima", "Osaka", "Austin", "Leipzig"];
const roles = ["engineer", "designer", "analyst", "manager", "support"];
const people = Array.from({ length: 50 }, (_, i) => ({
  name: `person_${String(i + 1).padStart(2, "0")}`,
  entityType: "person",
  observations: [
    `city: ${cities[Math.floor(rnd() * cities.length)]}`,
    `role: ${roles[Math.floor(rnd() * roles.length)]}`,
    `salary: ${40000 + Math.floor(rnd() * 80) * 1000}`,
    `joined: ${2012 + Math.floor(rnd() * 13)}`,
  ],
}));
const levels = ["INFO", "INFO", "INFO", "DEBUG", "WARN", "ERROR"];
const verbs = ["accepted connection from", "flushed 512 records to", "retrying request to",
  "cache miss for", "rotated key for", "timeout talking to"];
const hosts = ["db-1.internal", "queue-3.internal", "api-gw", "auth", "billing", "search-2"];
mkdirSync(files);
for (let f = 1; f <= 20; f++) {
  const lines = [];
  const n = 30 + Math.floor(rnd() * 40);
  for (let l = 0; l < n; l++) {
    const lv = levels[Math.floor(rnd() * levels.length)];
    lines.push(`2026-11-${String(1 + (l % 28)).padStart(2, "0")}T${String(l % 24).padStart(2, "0")}:${String((l * 7) % 60).padStart(2, "0")}:00Z ${lv} ` +
      `svc-${f} ${verbs[Math.floor(rnd() * verbs.length)]} ${hosts[Math.floor(rnd() * hosts.length)]} (req ${Math.floor(rnd() * 1e6)})`);
  }
  writeFileSync(join(files, `service-${String(f).padStart(2, "0")}.log`), lines.join("\n") + "\n");
}

// ---- real servers ----------------------------------------------------------
async function connect(command, args, env = {}) {
  const c = new Client({ name: "sluice-tokbench", version: "0.1.0" });
  await c.connect(new StdioClientTransport({ command, args, env: { ...process.env, ...env }, stderr: "ignore" }));
  return c;
}
const nm = (p) => join(ROOT, "node_modules/@modelcontextprotocol", p);
const servers = {
  memory: await connect("node", [nm("server-memory/dist/index.js")], { MEMORY_FILE_PATH: join(dir, "memory.jsonl") }),
  filesystem: await connect("node", [nm("server-filesystem/dist/index.js"), files]),
  everything: await connect("node", [nm("server-everything/dist/index.js"), "stdio"]),
};
const config = join(dir, "mcp.json");
writeFileSync(config, JSON.stringify({ mcpServers: {
  memory: { command: "node", args: [nm("server-memory/dist/index.js")], env: { MEMORY_FILE_PATH: join(dir, "memory-listing.jsonl") } },
  filesystem: { command: "node", args: [nm("server-filesystem/dist/index.js"), files] },
  everything: { command: "node", args: [nm("server-everything/dist/index.js"), "stdio"] },
} }));
const sluice = await connect(join(ROOT, "build/bin/sluice-mcp"), ["--mcp-config", config]);

const text = (r) => (r.content ?? []).filter((c) => c.type === "text").map((c) => c.text).join("\n");

// Direct side: all schemas as a tool-calling API receives them.
const allTools = [];
for (const [s, c] of Object.entries(servers)) {
  for (const t of (await c.listTools()).tools) allTools.push({ name: `${s}__${t.name}`, description: t.description, input_schema: t.inputSchema });
}
const directSchemaTokens = tok(allTools);

// Code-first side: sluice-mcp's own schemas, the compact listing, full schemas on demand.
const sluiceSchemaTokens = tok((await sluice.listTools()).tools.map((t) => ({ name: t.name, description: t.description, input_schema: t.inputSchema })));
const listing = text(await sluice.callTool({ name: "search_tools", arguments: { query: "", limit: 50 } }));
const listingTokens = tok(listing);
async function describe(name) {
  const r = text(await sluice.callTool({ name: "search_tools", arguments: { query: name.split(".")[1], detail: "full", limit: 3 } }));
  const hit = JSON.parse(r).find((t) => t.name === name);
  if (!hit) throw new Error(`search_tools did not find ${name}`);
  return { args: { query: name.split(".")[1], detail: "full" }, result: JSON.stringify(hit) };
}

// Runs a code-first program for real: `mcp` and `tools` behave as in prelude.ts.
function unwrap(r) {
  if (r.isError) throw new Error(text(r));
  if (r.structuredContent !== undefined) return r.structuredContent;
  try { return JSON.parse(text(r)); } catch { return text(r); }
}
async function runProgram(code) {
  const out = [];
  const mcp = new Proxy({}, { get: (_, s) => new Proxy({}, { get: (_u, t) => async (args = {}) => unwrap(await servers[s].callTool({ name: t, arguments: args })) }) });
  const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;
  await new AsyncFunction("mcp", "console", code)(mcp, { log: (...a) => out.push(a.join(" ")) });
  return out.join("\n") + "\n";
}

// Direct side: each call the model writes and each result it reads.
async function direct(calls) {
  let callTokens = 0, resultTokens = 0;
  const results = [];
  for (const [server, tool, args] of calls) {
    callTokens += tok({ name: `${server}__${tool}`, arguments: args });
    const r = await servers[server].callTool({ name: tool, arguments: args });
    resultTokens += tok(text(r));
    results.push(r);
  }
  return { callTokens, resultTokens, calls: calls.length, results };
}

const statusLine = "status: ok | exit_code: 0 | job: 5f0c1e7a9b2d4c6e8f0a1b2c3d4e5f60 | wall_ms: 412";
const tasks = [];
async function task(name, descr, directCalls, program, used, finalAnswerFromDirect) {
  // Code-first first against a fresh memory graph would change state for the
  // direct run; both runs are written to be idempotent on the servers.
  const d = await direct(directCalls);
  const stdout = await runProgram(program);
  const answer = finalAnswerFromDirect ? finalAnswerFromDirect(d.results) : stdout;
  if (answer.trim() !== stdout.trim()) throw new Error(`${name}: the two sides disagree:\n${answer}\n---\n${stdout}`);
  let describeTokens = 0;
  for (const u of used) {
    const x = await describe(u);
    describeTokens += tok({ name: "search_tools", arguments: x.args }) + tok(x.result);
  }
  const directTotal = directSchemaTokens + d.callTokens + d.resultTokens + tok(answer);
  const codeTotal = sluiceSchemaTokens + listingTokens + describeTokens + tok({ name: "execute_code", arguments: { code: program } }) +
    tok(stdout + statusLine) + tok(stdout);
  tasks.push({ name, descr, d, directTotal, codeTotal, describeTokens, programTokens: tok(program), outTokens: tok(stdout + statusLine), answerTokens: tok(answer), turns: d.calls + 1 });
}

// Task 1: create 50 entities, return only the engineers in Lisbon.
const t1program = `const people = ${JSON.stringify(people)};
await mcp.memory.create_entities({ entities: people });
const { entities } = await mcp.memory.search_nodes({ query: "Lisbon" });
for (const e of entities) if (e.observations.includes("role: engineer")) console.log(e.name);`;
await task("entities", "create 50 entities, return the engineers in Lisbon",
  [["memory", "create_entities", { entities: people }], ["memory", "search_nodes", { query: "Lisbon" }]],
  t1program, ["memory.create_entities", "memory.search_nodes"],
  (res) => JSON.parse(text(res[1])).entities.filter((e) => e.observations.includes("role: engineer")).map((e) => e.name).join("\n") + "\n");

// Task 2: read 20 files through server-filesystem, one summary line each.
const fileNames = Array.from({ length: 20 }, (_, i) => join(files, `service-${String(i + 1).padStart(2, "0")}.log`));
const summarize = (path, body) => {
  const lines = body.trimEnd().split("\n");
  const errors = lines.filter((l) => l.includes(" ERROR "));
  return `${path.split("/").pop()}: ${lines.length} lines, ${errors.length} errors, last error: ${errors.length ? errors.at(-1).split(" ").slice(3).join(" ") : "-"}`;
};
const t2program = `const dir = ${JSON.stringify(files)};
for (let i = 1; i <= 20; i++) {
  const path = \`\${dir}/service-\${String(i).padStart(2, "0")}.log\`;
  const r = await mcp.filesystem.read_text_file({ path });
  const body = typeof r === "string" ? r : r.content;
  const lines = body.trimEnd().split("\\n");
  const errors = lines.filter((l) => l.includes(" ERROR "));
  console.log(\`\${path.split("/").pop()}: \${lines.length} lines, \${errors.length} errors, last error: \${errors.length ? errors.at(-1).split(" ").slice(3).join(" ") : "-"}\`);
}`;
await task("files", "read 20 log files via server-filesystem, one summary line each",
  fileNames.map((p) => ["filesystem", "read_text_file", { path: p }]),
  t2program, ["filesystem.read_text_file"],
  (res) => res.map((r, i) => summarize(fileNames[i], text(r))).join("\n") + "\n");

// Task 3: search the graph and aggregate: engineers per city, mean salary.
const aggregate = (entities) => {
  const by = {};
  for (const e of entities) {
    const o = Object.fromEntries(e.observations.map((x) => x.split(": ")));
    if (o.role !== "engineer") continue;
    (by[o.city] ??= []).push(Number(o.salary));
  }
  return Object.entries(by).sort().map(([c, s]) => `${c}: ${s.length} engineers, mean salary ${Math.round(s.reduce((a, b) => a + b, 0) / s.length)}`).join("\n") + "\n";
};
const t3program = `const { entities } = await mcp.memory.search_nodes({ query: "engineer" });
const by = {};
for (const e of entities) {
  const o = Object.fromEntries(e.observations.map((x) => x.split(": ")));
  if (o.role !== "engineer") continue;
  (by[o.city] ??= []).push(Number(o.salary));
}
for (const [c, s] of Object.entries(by).sort())
  console.log(\`\${c}: \${s.length} engineers, mean salary \${Math.round(s.reduce((a, b) => a + b, 0) / s.length)}\`);`;
await task("search+aggregate", "search the graph for engineers, aggregate per city",
  [["memory", "search_nodes", { query: "engineer" }]],
  t3program, ["memory.search_nodes"],
  (res) => aggregate(JSON.parse(text(res[0])).entities));

// ---- report ------------------------------------------------------------------
const pct = (a, b) => `${(100 * (1 - b / a)).toFixed(1)}%`;
let dSum = 0, cSum = 0, dTurnSum = 0;
const rows = tasks.map((t) => {
  dSum += t.directTotal; cSum += t.codeTotal;
  const perTurn = t.directTotal + directSchemaTokens * (t.turns - 1);
  dTurnSum += perTurn;
  return `| ${t.name} | ${t.d.calls} | ${t.d.callTokens} | ${t.d.resultTokens} | ${t.directTotal} | ${perTurn} | ${t.describeTokens} | ${t.programTokens} | ${t.outTokens} | ${t.codeTotal} | ${pct(t.directTotal, t.codeTotal)} |`;
});
const lines = [
  `Tokenizer: gpt-tokenizer o200k_base. Servers: ${Object.keys(servers).join(", ")} (${allTools.length} tools).`,
  `Fixed context: direct tool schemas ${directSchemaTokens} tokens; code-first sluice-mcp schemas ${sluiceSchemaTokens} + compact listing ${listingTokens} tokens.`,
  "",
  "| task | direct calls | direct call args | direct tool results | direct total (schemas once) | direct total (schemas every turn) | code-first schemas on demand | code-first program | code-first execute_code result | code-first total | saved (vs schemas once) |",
  "|---|---|---|---|---|---|---|---|---|---|---|",
  ...rows,
  `| **all** | | | | **${dSum}** | **${dTurnSum}** | | | | **${cSum}** | **${pct(dSum, cSum)}** |`,
];
console.log(lines.join("\n"));
if (!markdown) for (const t of tasks) console.error(`${t.name}: ${t.descr}`);

for (const c of [...Object.values(servers), sluice]) await c.close().catch(() => {});
rmSync(dir, { recursive: true, force: true });
process.exit(0);
