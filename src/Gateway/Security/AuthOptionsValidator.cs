using Gateway.Providers;
using Microsoft.Extensions.Options;

namespace Gateway.Security;

/// <summary>
/// Checks every key at start-up, naming the configuration key of each problem. A hash is never quoted back:
/// it is a secret too.
/// </summary>
internal sealed class AuthOptionsValidator(IOptions<RoutingOptions> routing) : IValidateOptions<AuthOptions>
{
    public ValidateOptionsResult Validate(string? name, AuthOptions options)
    {
        var failures = new List<string>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        var hashes = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < options.Keys.Count; i++)
        {
            var key = options.Keys[i];
            var path = $"{AuthOptions.Section}:Keys:{i}";
            if (string.IsNullOrWhiteSpace(key.Name))
            {
                failures.Add($"{path}:Name is required.");
            }
            else if (key.Name == CallerIdentity.AnonymousName)
            {
                failures.Add($"{path}:Name may not be '{CallerIdentity.AnonymousName}': it names callers when no keys are configured.");
            }
            else if (!names.Add(key.Name))
            {
                failures.Add($"{path}:Name '{key.Name}' is used by another key.");
            }

            if (!KeyHash.IsHex(key.KeyHash))
            {
                failures.Add($"{path}:KeyHash must be the 64 hex digits of the key's SHA-256 (`dotnet run --project src/Gateway -- hash-key` prints one).");
            }
            else if (!hashes.Add(key.KeyHash))
            {
                failures.Add($"{path}:KeyHash is the same as another key's.");
            }

            if (key.Role is not (GatewayRoles.Admin or GatewayRoles.Client))
            {
                failures.Add($"{path}:Role must be '{GatewayRoles.Admin}' or '{GatewayRoles.Client}' (got {Hosting.ConfigValue.Quoted(key.Role)}).");
            }

            for (var m = 0; m < key.Models.Count; m++)
            {
                if (!routing.Value.Models.ContainsKey(key.Models[m]))
                {
                    failures.Add($"{path}:Models:{m} names unknown model alias '{key.Models[m]}'.");
                }
            }

            if (key.RequestsPerMinute is < 1)
            {
                failures.Add($"{path}:RequestsPerMinute must be at least 1 (leave it out for no limit).");
            }

            if (key.TokensPerMinute is < 1)
            {
                failures.Add($"{path}:TokensPerMinute must be at least 1 (leave it out for no limit).");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
