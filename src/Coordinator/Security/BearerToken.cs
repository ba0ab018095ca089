using Microsoft.AspNetCore.Http;

namespace Plateau.Coordinator.Security;

/// <summary>The token of an "Authorization: Bearer …" header, if the request has one.</summary>
internal static class BearerToken
{
    private const string Prefix = "Bearer ";

    public static string? Read(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        return header.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase) && header.Length > Prefix.Length
            ? header[Prefix.Length..].Trim()
            : null;
    }

    /// <summary>A JWT is three base64url parts joined by dots; configured tokens need not look like that.</summary>
    public static bool LooksLikeJwt(string token) => token.Count(c => c == '.') == 2;
}
