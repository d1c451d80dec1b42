namespace Gateway.OpenApi;

/// <summary>
/// Documents a parameter that its handler reads as text, so that a bad value gets the handler's own precise 400
/// rather than the binder's, as the boolean it stands for.
/// </summary>
[AttributeUsage(AttributeTargets.Parameter)]
internal sealed class TrueOrFalseAttribute : Attribute;
