client.global.set("t", response.body.token);
client.test("ok", function () { client.assert(response.status === 200, "s"); });
