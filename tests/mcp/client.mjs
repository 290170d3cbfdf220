// Drives build/bin/sluice-mcp with the official TypeScript SDK client, as an
// agent would.  Prints "ok - NAME" / "not ok - NAME" lines (tests/run.sh counts
// them).  Usage: node tests/mcp/client.mjs SLUICE_MCP [ARGS...]
// The broker endpoint comes from $SLUICE_BROKER (set by tests/integ/lib.sh);
// SLUICE_EXPECT_CATALOGUE=1 when the farm's workers have MCP servers.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

const [bin, ...args] = process.argv.slice(2);
let failures = 0;
function check(name, cond, detail) {
  if (cond) console.log(`ok - ${name}`);
  else {
    failures++;
    console.log(`not ok - ${name}${detail ? ": " + detail : ""}`);
  }
}
const text = (r) => (r.content ?? []).filter((c) => c.type === "text").map((c) => c.text).join("\n");

const transport = new StdioClientTransport({
  command: bin,
  args,
  env: { ...process.env },
  stderr: "inherit",
});
const client = new Client({ name: "sluice-integ", version: "0.1.0" });
try {
  await client.connect(transport);
  check("SDK client initializes", client.getServerVersion()?.name === "sluice-mcp");

  const { tools } = await client.listTools();
  const names = tools.map((t) => t.name).sort();
  check("tools/list has execute_code and search_tools", names.join(",") === "execute_code,search_tools", names.join(","));
  check("execute_code has an input schema requiring code",
    tools.find((t) => t.name === "execute_code")?.inputSchema?.required?.includes("code"));

  let r = await client.callTool({ name: "execute_code", arguments: { code: 'console.log("hi")' } });
  check("execute_code runs a program printing hi", !r.isError && text(r).includes("hi"), JSON.stringify(r));
  check("the result reports status ok, wall time and job", /^status: ok \| \d+ ms \| job \S+$/m.test(text(r)), text(r));

  r = await client.callTool({ name: "execute_code", arguments: { code: 'throw new Error("boom 4711")', language: "typescript" } });
  check("a failing program is isError", r.isError === true, JSON.stringify(r));
  check("its status, exit code and stderr are reported", /status: error \| exit_code: 1/.test(text(r)) && text(r).includes("boom 4711"), text(r));

  r = await client.callTool({ name: "execute_code", arguments: { code: "let n = 0; while (true) n++;", timeout_ms: 1000 } });
  check("a program over its time limit is isError with status timeout", r.isError === true && text(r).includes("status: timeout"), text(r));

  r = await client.callTool({ name: "execute_code", arguments: { code: "console.log([1,2,3].map((x) => x * 2).join(' '))", language: "javascript", session: "integ" } });
  check("JavaScript with a session runs", !r.isError && text(r).includes("2 4 6"), text(r));

  try {
    await client.callTool({ name: "execute_code", arguments: { code: 42 } });
    check("bad arguments are a JSON-RPC error", false, "no error");
  } catch (e) {
    check("bad arguments are a JSON-RPC error", String(e).includes("-32602"), String(e));
  }

  r = await client.callTool({ name: "search_tools", arguments: { query: "sum of two numbers" } });
  if (process.env.SLUICE_EXPECT_CATALOGUE) {
    check("search_tools finds everything.get-sum in the workers' catalogue", !r.isError && text(r).startsWith("everything.get-sum"), text(r));
    r = await client.callTool({ name: "search_tools", arguments: { query: "entities", detail: "full", limit: 2 } });
    const full = r.isError ? [] : JSON.parse(text(r));
    check("search_tools detail=full returns input schemas", full.length === 2 && full.every((t) => t.inputSchema?.type === "object"), text(r));
    r = await client.callTool({ name: "search_tools", arguments: { query: "memory.search_nodes everything.get-sum", detail: "full", limit: 2 } });
    const picked = r.isError ? [] : JSON.parse(text(r));
    check("search_tools with exact names returns just those definitions, lean",
      picked.map((t) => t.name).sort().join(",") === "everything.get-sum,memory.search_nodes" && !text(r).includes("$schema") &&
      picked.every((t) => t.inputSchema?.required?.length > 0), text(r));
    r = await client.callTool({ name: "search_tools", arguments: { query: "search graph", detail: "name", limit: 5 } });
    check("search_tools detail=name is one name per line", !r.isError && text(r).split("\n").includes("memory.search_nodes") && !text(r).includes(":"), text(r));
    r = await client.callTool({ name: "search_tools", arguments: { query: "memory.create_entities everything.get-annotated-message", detail: "signature", limit: 2 } });
    check("search_tools detail=signature is one TypeScript-like line per tool, through the farm",
      !r.isError && text(r).endsWith("\n") && text(r).trimEnd().split("\n").sort().join("\n") === "everything.get-annotated-message(args: {messageType: \"error\" | \"success\" | \"debug\"; includeImage?: boolean = false}): text " +
        "// Demonstrates how annotations can be used to provide metadata about content.\nmemory.create_entities(args: {entities: {name: string; entityType: string; observations: string[]}[]}): " +
        "{entities: {name: string; entityType: string; observations: string[]}[]} // Create multiple new entities in the knowledge graph", text(r));
    const { tools: listed } = await client.listTools();
    check("search_tools offers detail signature", listed.find((t) => t.name === "search_tools")?.inputSchema?.properties?.detail?.enum?.includes("signature"));
    r = await client.callTool({ name: "execute_code", arguments: { code: 'const g = await mcp.memory.read_graph({}); console.log(g.entities.length);' } });
    check("execute_code reports the tool calls the program made", !r.isError && /tools: memory\.read_graph 1 call, [\d.]+ [KM]?B in, [\d.]+ [KM]?B out, \d+ ms/.test(text(r)), text(r));
  } else {
    check("search_tools on a farm without MCP tools is a tool error", r.isError === true && text(r).includes("tool search failed"), text(r));
  }

  await client.ping();
  check("ping answers", true);
} catch (e) {
  check("the SDK session completes", false, String(e?.stack ?? e));
} finally {
  await client.close().catch(() => {});
}
process.exit(failures ? 1 : 0);
