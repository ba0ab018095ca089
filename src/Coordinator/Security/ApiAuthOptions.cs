namespace Plateau.Coordinator.Security;

/// <summary>
/// Configuration section <c>Plateau:Api:Auth</c>: who may call plateau.v1.JobService. On by default;
/// the coordinator does not start with authentication on and no way to authenticate (docs/security.md).
/// </summary>
public sealed class ApiAuthOptions
{
    public const string SectionName = "Plateau:Api:Auth";

    /// <summary>Shortest configured token accepted (characters).</summary>
    public const int MinTokenChars = 16;

    /// <summary>False serves the JobService to anyone who reaches its port (only for a trusted network).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Opaque bearer tokens that are accepted (each at least <see cref="MinTokenChars"/> characters).</summary>
    public List<string> Tokens { get; set; } = [];

    /// <summary>JWT validation; off unless <see cref="ApiJwtOptions.SigningKey"/> is set.</summary>
    public ApiJwtOptions Jwt { get; set; } = new();
}
