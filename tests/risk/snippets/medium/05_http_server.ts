// Serve the generated report on a local port for the preview tool.
const html = await Deno.readTextFile("/work/report.html");
Deno.serve({ port: 8080 }, () => new Response(html, { headers: { "content-type": "text/html" } }));
