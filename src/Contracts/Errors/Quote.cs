using System.Globalization;

namespace Plateau.Contracts.Errors;

/// <summary>
/// How an error message quotes a value someone submitted: in full when short, else its start and its
/// length, so a 5 MB model name makes a readable error instead of a 5 MB one.
/// </summary>
public static class Quote
{
    /// <summary>Longest value quoted whole.</summary>
    public const int MaxQuoted = 64;

    /// <summary>Characters kept of a longer value.</summary>
    public const int KeptOfLong = 40;

    public static string Value(string? value) => value switch
    {
        null => "null",
        { Length: <= MaxQuoted } => $"'{value}'",
        _ => string.Create(CultureInfo.InvariantCulture, $"'{value[..KeptOfLong]}…' ({value.Length} characters)"),
    };
}
