using Microsoft.Extensions.Options;

namespace Gateway.Resilience;

[OptionsValidator]
internal sealed partial class ResilienceOptionsRangeValidator : IValidateOptions<ResilienceOptions>;

/// <summary>Range checks from the attributes, reported under the configuration key they came from.</summary>
internal sealed class ResilienceOptionsValidator : IValidateOptions<ResilienceOptions>
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
        return ValidateOptionsResult.Fail(result.Failures!.Select(failure => $"{section}: {failure}"));
    }
}
