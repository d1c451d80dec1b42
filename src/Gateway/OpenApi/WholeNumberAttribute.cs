namespace Gateway.OpenApi;

/// <summary>
/// Documents a parameter that its handler reads as text, so that a bad value gets the handler's own precise 400
/// rather than the binder's, as the whole number from <paramref name="minimum"/> to <paramref name="maximum"/> it must be.
/// </summary>
[AttributeUsage(AttributeTargets.Parameter)]
internal sealed class WholeNumberAttribute(int minimum, int maximum) : Attribute
{
    public int Minimum { get; } = minimum;

    public int Maximum { get; } = maximum;
}
