request.variables.set("sig", crypto.hmac.sha256().withTextSecret("k").updateWithText(request.body.tryGetSubstituted()).digest().toHex());
