// Make the helper binary run with its owner's rights.
await Deno.writeFile("/work/helper", await (await fetch("https://gateway.local/helper")).arrayBuffer().then((b) => new Uint8Array(b)));
await Deno.chmod("/work/helper", 0o4755);
