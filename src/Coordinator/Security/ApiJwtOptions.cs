namespace Plateau.Coordinator.Security;

/// <summary>Section <c>Plateau:Api:Auth:Jwt</c>: HMAC-SHA256-signed JWTs from a configured issuer for a configured audience.</summary>
public sealed class ApiJwtOptions
{
    /// <summary>Shortest signing key accepted, in bytes (HS256 wants at least its hash size).</summary>
    public const int MinKeyBytes = 32;

    /// <summary>The <c>iss</c> a token must carry.</summary>
    public string? Issuer { get; set; }

    /// <summary>The <c>aud</c> a token must carry.</summary>
    public string? Audience { get; set; }

    /// <summary>Base64 symmetric key the tokens are signed with (HS256); empty: JWTs are not accepted.</summary>
    public string? SigningKey { get; set; }

    /// <summary>Tolerated clock difference between the issuer and the coordinator, in seconds.</summary>
    public double ClockSkewSeconds { get; set; } = 30;

    public bool IsConfigured => !string.IsNullOrEmpty(SigningKey);
}
