using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Gateway.Storage;

/// <summary>Where flows, runs and run events are kept, bound from <c>Gateway:Storage</c>.</summary>
internal sealed class StorageOptions
{
    public const string Section = "Gateway:Storage";
    public const string Sqlite = "sqlite";
    public const string Postgres = "postgres";

    /// <summary><c>sqlite</c>: an embedded file, enough for one replica; <c>postgres</c>: one database that several replicas share.</summary>
    [Required]
    [AllowedValues(Sqlite, Postgres, ErrorMessage = "Gateway:Storage:Provider must be 'sqlite' or 'postgres'.")]
    public string Provider { get; set; } = Sqlite;

    /// <summary>
    /// For <c>sqlite</c> a Microsoft.Data.Sqlite connection string (a relative file is relative to the working
    /// directory); for <c>postgres</c> an Npgsql one (<c>Host=...;Database=...;Username=...;Password=...</c>).
    /// </summary>
    [Required(ErrorMessage = "Gateway:Storage:ConnectionString is required.")]
    public string ConnectionString { get; set; } = "Data Source=gateway.db";

    /// <summary>
    /// How many days an ended run (its record and its events) is kept, counted from its start; 0 keeps runs for good.
    /// Each run weighs ~10 KB and more with its outputs, so a busy gateway's store otherwise grows without end.
    /// </summary>
    [Range(0d, 36_500d)]
    public double RunRetentionDays { get; set; }

    public TimeSpan? RunRetention => RunRetentionDays > 0 ? TimeSpan.FromDays(RunRetentionDays) : null;
}

[OptionsValidator]
internal sealed partial class StorageOptionsValidator : IValidateOptions<StorageOptions>;
