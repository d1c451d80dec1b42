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
        var section = string.IsNullOrEmpty(name) ? ResilienceOptions.Section : $"Gateway:Providers:{name}:Resilience";
        var failures = new List<string>();
        var result = _ranges.Validate(name, options);
        foreach (var failure in result.Failures ?? [])
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

        // A delay out of its own range is said once, by its range.
        if (result.Succeeded && DelaysOutOfOrder(name, options, section) is { } delays)
        {
            failures.Add(delays);
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>
    /// A first backoff longer than the cap on every backoff: Polly would wait the cap each time, and the operator who
    /// set a long first delay meant something else. Said of the key the section set (the cap, if it set both); a
    /// provider that set neither inherits the pair the shared section's own validation reports; and nothing is said
    /// where nothing is retried.
    /// </summary>
    private string? DelaysOutOfOrder(string? name, ResilienceOptions options, string section)
    {
        var baseKey = $"{section}:{nameof(ResilienceOptions.BaseDelayMs)}";
        var maxKey = $"{section}:{nameof(ResilienceOptions.MaxDelayMs)}";
        var setsMax = configuration[maxKey] is not null;
        if (options.BaseDelayMs <= options.MaxDelayMs || options.MaxRetries == 0
            || (!string.IsNullOrEmpty(name) && !setsMax && configuration[baseKey] is null))
        {
            return null;
        }

        return setsMax || string.IsNullOrEmpty(name)
            ? $"{maxKey} must be at least {nameof(ResilienceOptions.BaseDelayMs)} ({options.BaseDelayMs}), the first backoff it caps; got {options.MaxDelayMs}."
            : $"{baseKey} must be at most {nameof(ResilienceOptions.MaxDelayMs)} ({options.MaxDelayMs}), the cap on every backoff; got {options.BaseDelayMs}.";
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
