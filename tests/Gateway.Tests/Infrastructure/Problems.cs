using System.Net;
using System.Text.Json.Nodes;

namespace Gateway.Tests.Infrastructure;

public static class Problems
{
    /// <summary>Asserts a 400 ProblemDetails with an <c>errors</c> map, and returns that map.</summary>
    public static async Task<JsonObject> ReadValidationErrorsAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        var problem = await Json.ReadAsync(response);
        Assert.Equal(400, problem["status"]!.GetValue<int>());
        return problem["errors"]!.AsObject();
    }

    /// <summary>The messages for one path, for exact comparison.</summary>
    public static string[] At(JsonObject errors, string path) =>
        errors[path] is JsonArray messages ? [.. messages.Select(m => m!.GetValue<string>())] : throw new Xunit.Sdk.XunitException(
            $"No error at '{path}'; errors: {errors.ToJsonString()}");
}
