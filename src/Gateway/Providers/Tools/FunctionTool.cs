using System.Text.Json;
using Microsoft.Extensions.AI;

namespace Gateway.Providers.Tools;

/// <summary>
/// A function the caller offers the model (an entry of OpenAI's <c>tools</c>), declared only: the caller runs it, not
/// the gateway. Its JSON schema is kept as the caller wrote it and sent on byte for byte, as is <c>strict</c>, which
/// the abstraction has no member for.
/// </summary>
internal sealed class FunctionTool(string name, string? description, JsonElement? parameters, bool? strict) : AIFunctionDeclaration
{
    public override string Name => name;

    public override string Description => description ?? "";

    /// <summary>Whether the caller gave a description (an empty one is sent on as given).</summary>
    public bool HasDescription => description is not null;

    /// <summary>The parameters' JSON schema, when the caller gave one (a function may take none).</summary>
    public JsonElement? Parameters => parameters;

    public override JsonElement JsonSchema => parameters ?? default;

    /// <summary>Structured Outputs for the arguments (<c>strict</c>), when the caller set it.</summary>
    public bool? Strict => strict;
}
