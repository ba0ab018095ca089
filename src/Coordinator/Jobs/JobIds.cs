using System.Globalization;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Plateau.Contracts.Errors;

namespace Plateau.Coordinator.Jobs;

/// <summary>Job ids are Kubernetes-style names: they end up in paths, grain keys and resource names.</summary>
public static partial class JobIds
{
    public static bool IsValid(string? id) => id is not null && Pattern().IsMatch(id);

    public static string Rule(string? id) =>
        $"must be 1-63 lower-case letters, digits or '-', starting and ending with a letter or digit, got {Quote.Value(id)}";

    /// <summary>"{name}-{6 hex}" or "job-{yyyyMMdd-HHmmss}-{4 hex}".</summary>
    public static string New(string? name, DateTimeOffset now)
    {
        var suffix = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
        var stem = IsValid(name) && name!.Length <= 56 ? name : "job-" + now.UtcDateTime.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        return $"{stem}-{suffix}";
    }

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")]
    private static partial Regex Pattern();
}
