using System.Text.Json;
using System.Text.Json.Serialization;

namespace Gateway.Flows;

/// <summary>
/// An integer parameter written as <c>2.0</c> or <c>2e0</c> (Python's <c>json.dumps(2.0)</c>) is the whole number it
/// names, as JSON Schema's <c>integer</c> (what <c>/api/components</c> publishes) has it; <c>1.5</c> is not one.
/// Strict, unlike <c>Providers.OpenAI.WholeNumbers</c>, which truncates what an upstream sends rather than fail an answer.
/// </summary>
internal sealed class WholeNumberConverter : JsonConverter<int>
{
    public override int Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.Number && (reader.TryGetInt32(out var whole) || (reader.TryGetDouble(out var number) && TryWhole(number, out whole)))
            ? whole
            : throw new JsonException("Must be a whole number.");

    public override void Write(Utf8JsonWriter writer, int value, JsonSerializerOptions options) => writer.WriteNumberValue(value);

    /// <summary>The whole number <paramref name="number"/> is, if it is one that fits.</summary>
    public static bool TryWhole(double number, out int whole)
    {
        var fits = number == Math.Floor(number) && number is >= int.MinValue and <= int.MaxValue;
        whole = fits ? (int)number : 0;
        return fits;
    }
}
