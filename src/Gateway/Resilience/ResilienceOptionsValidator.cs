using Microsoft.Extensions.Options;

namespace Gateway.Resilience;

[OptionsValidator]
internal sealed partial class ResilienceOptionsRangeValidator : IValidateOptions<ResilienceOptions>;

/// <summary>
/// Range checks from the attributes, reported under the configuration key they came from. A provider's options are
/// <c>Gateway:Resilience</c> overlaid with its own keys: a value it did not set itself is the shared section's, whose
/// own validation reports it once, rather than once more for every provider.
/// </summary>
internal sealed class ResilienceOptionsValidator(IConfiguration configuration) : IValidateOptions<ResilienceOptions>
{
    private readonly ResilienceOptionsRangeValidator _ranges = new();

    public ValidateOptionsResult Validate(string? name, ResilienceOptions options)
    {
        var result = _ranges.Validate(name, options);
        if (result.Succeeded || result.Skipped)
        {
            return result;
        }

        var section = string.IsNullOrEmpty(name) ? ResilienceOptions.Section : $"Gateway:Providers:{name}:Resilience";
        var failures = new List<string>();
        foreach (var failure in result.Failures!)
        {
            // The generated validator's words: "CircuitBreaker.FailureRatio: The field … must be between 0.01 and 1."
            var colon = failure.IndexOf(": ", StringComparison.Ordinal);
            if (colon < 0)
            {
                failures.Add($"{section}: {failure}");
                continue;
            }

            var member = failure[..colon];
            var setting = SettingOf(member);
            var key = $"{section}:{setting ?? member.Replace('.', ':')}";
            // Only a failure of one known setting the provider did not set itself is the shared section's; anything
            // else (several members, a rule across them) stays, so that no bad value is ever let through.
            if (!string.IsNullOrEmpty(name) && setting is not null && configuration[key] is null)
            {
                continue;
            }

            var rule = failure[(colon + 2)..];
            var mustBe = rule.IndexOf(" must be ", StringComparison.Ordinal);
            failures.Add(mustBe >= 0 ? $"{key}{rule[mustBe..]}" : $"{key}: {rule}");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>
    /// The key, under the section, of a setting the validator names alone (its circuit breaker's by their own name);
    /// null for anything else.
    /// </summary>
    private static string? SettingOf(string member) =>
        typeof(ResilienceOptions).GetProperty(member) is not null ? member
        : typeof(CircuitBreakerOptions).GetProperty(member) is not null ? $"{nameof(ResilienceOptions.CircuitBreaker)}:{member}"
        : null;
}
