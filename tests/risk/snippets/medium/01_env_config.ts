// Pick the API region from the environment.
const region = Deno.env.get("REGION") ?? "eu-west-1";
const items = await sluice.call("inventory.list", { region });
console.log(items.length);
