using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Gateway.Storage;

/// <summary>Where flows, runs and run events are kept, bound from <c>Gateway:Storage</c>.</summary>
internal sealed class StorageOptions
{
    public const string Section = "Gateway:Storage";
    public const string Sqlite = "sqlite";

    /// <summary>Only <c>sqlite</c> for now: an embedded file, enough for one replica.</summary>
    [Required]
    [AllowedValues(Sqlite, ErrorMessage = "Gateway:Storage:Provider must be 'sqlite'.")]
    public string Provider { get; set; } = Sqlite;

    /// <summary>A Microsoft.Data.Sqlite connection string; a relative file is relative to the working directory.</summary>
    [Required(ErrorMessage = "Gateway:Storage:ConnectionString is required.")]
    public string ConnectionString { get; set; } = "Data Source=gateway.db";
}

[OptionsValidator]
internal sealed partial class StorageOptionsValidator : IValidateOptions<StorageOptions>;
