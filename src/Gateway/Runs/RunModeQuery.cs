using Gateway.Flows;
using Gateway.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Gateway.Runs;

/// <summary>
/// A run's <c>?stream=</c> and <c>?background=</c>, read as text: <c>true</c> or <c>false</c>, or <c>1</c> or <c>0</c>,
/// which forms and many clients write. Bound as booleans, <c>?stream=1</c> was a 400 in the binder's words, naming
/// the parameter's .NET type.
/// </summary>
internal readonly record struct RunModeQuery(bool Stream, bool Background)
{
    /// <returns>The 400 for a value that is neither, naming it; null when <paramref name="mode"/> is read.</returns>
    public static ValidationProblem? Read(string? stream, string? background, out RunModeQuery mode)
    {
        var errors = new ValidationErrors();
        mode = new RunModeQuery(Flag(stream, "stream", errors), Flag(background, "background", errors));
        return errors.IsEmpty ? null : ApiProblems.Invalid(errors, "The query is invalid.");
    }

    private static bool Flag(string? value, string name, ValidationErrors errors)
    {
        if (string.IsNullOrEmpty(value))
        {
            return false;
        }

        // In any case, as bool.TryParse reads them, but not with the spaces or trailing NULs it forgives.
        if (value is "1" || value.Equals(bool.TrueString, StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        if (value is "0" || value.Equals(bool.FalseString, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        errors.Add(name, "Must be true or false (or 1 or 0).");
        return false;
    }
}
