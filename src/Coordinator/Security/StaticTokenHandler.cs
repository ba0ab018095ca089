using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Plateau.Coordinator.Security;

/// <summary>
/// "Authorization: Bearer &lt;token&gt;" checked against <see cref="ApiAuthOptions.Tokens"/>. Tokens are compared
/// as SHA-256 digests in constant time, so neither a token's length nor its prefix leaks through timing.
/// The principal is named "token-&lt;index&gt;" (never the token itself).
/// </summary>
public sealed class StaticTokenHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> schemeOptions,
    IOptions<ApiAuthOptions> authOptions,
    ILoggerFactory logger,
    UrlEncoder encoder) : AuthenticationHandler<AuthenticationSchemeOptions>(schemeOptions, logger, encoder)
{
    public const string SchemeName = "PlateauToken";

    private readonly byte[][] _digests = [.. authOptions.Value.Tokens.Select(t => SHA256.HashData(Encoding.UTF8.GetBytes(t)))];

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (BearerToken.Read(Request) is not { } token)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        var digest = SHA256.HashData(Encoding.UTF8.GetBytes(token));
        var match = -1;
        for (var i = 0; i < _digests.Length; i++)
        {
            // Every entry is compared, so the time does not say which one matched.
            if (CryptographicOperations.FixedTimeEquals(digest, _digests[i]))
            {
                match = i;
            }
        }

        if (match < 0)
        {
            return Task.FromResult(AuthenticateResult.Fail("the bearer token is not one of Plateau:Api:Auth:Tokens"));
        }

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, $"token-{match}")], SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }
}
