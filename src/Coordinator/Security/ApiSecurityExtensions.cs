using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace Plateau.Coordinator.Security;

/// <summary>Authentication of the JobService (configured tokens and JWTs) and the API's certificate.</summary>
public static class ApiSecurityExtensions
{
    /// <summary>The authorization policy JobService endpoints require.</summary>
    public const string ApiPolicy = "plateau-api";

    /// <summary>Picks the configured-token or the JWT handler by the token's shape.</summary>
    private const string SelectorScheme = "PlateauBearer";

    /// <summary>Reads and validates <c>Plateau:Api:Auth</c> and <c>…:Tls</c>; registers authentication when it is on.</summary>
    public static (ApiAuthOptions Auth, ApiTlsOptions Tls) AddPlateauApiSecurity(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        var auth = Read<ApiAuthOptions>(configuration, ApiAuthOptions.SectionName, new ApiAuthOptionsValidator());
        var tls = Read<ApiTlsOptions>(configuration, ApiTlsOptions.SectionName, new ApiTlsOptionsValidator());
        services.AddSingleton(Options.Create(auth));
        services.AddAuthorization(o => o.AddPolicy(ApiPolicy, policy => policy.RequireAuthenticatedUser()));
        if (!auth.Enabled)
        {
            // No schemes: the authentication middleware runs and finds nobody, which nothing requires.
            services.AddAuthentication();
            return (auth, tls);
        }

        var jwt = auth.Jwt;
        var authentication = services.AddAuthentication(SelectorScheme)
            .AddPolicyScheme(SelectorScheme, "configured token or JWT", o => o.ForwardDefaultSelector = context =>
                jwt.IsConfigured && BearerToken.Read(context.Request) is { } token && BearerToken.LooksLikeJwt(token)
                    ? JwtBearerDefaults.AuthenticationScheme
                    : StaticTokenHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, StaticTokenHandler>(StaticTokenHandler.SchemeName, _ => { });
        if (jwt.IsConfigured)
        {
            authentication.AddJwtBearer(o =>
            {
                o.MapInboundClaims = false;
                o.TokenValidationParameters = new TokenValidationParameters
                {
                    ValidIssuer = jwt.Issuer,
                    ValidAudience = jwt.Audience,
                    IssuerSigningKey = new SymmetricSecurityKey(Convert.FromBase64String(jwt.SigningKey!)),
                    ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
                    ValidateIssuer = true,
                    ValidateAudience = true,
                    ValidateLifetime = true,
                    RequireExpirationTime = true,
                    ValidateIssuerSigningKey = true,
                    ClockSkew = TimeSpan.FromSeconds(jwt.ClockSkewSeconds),
                    NameClaimType = "sub",
                };
            });
        }

        return (auth, tls);
    }

    /// <summary>The API's certificate: a PEM pair, or a PFX/PKCS#12 file.</summary>
    public static X509Certificate2 LoadCertificate(ApiTlsOptions tls)
    {
        ArgumentNullException.ThrowIfNull(tls);
        var path = tls.CertificatePath ?? throw new InvalidOperationException($"{ApiTlsOptions.SectionName}:CertificatePath is not set");
        if (!string.IsNullOrEmpty(tls.KeyPath))
        {
            // Kestrel on Linux wants a certificate whose key it can use directly: re-load as PKCS#12.
            using var pem = X509Certificate2.CreateFromPemFile(path, tls.KeyPath);
            return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        }

        return IsPem(path)
            ? X509Certificate2.CreateFromPemFile(path)
            : X509CertificateLoader.LoadPkcs12FromFile(path, tls.CertificatePassword);
    }

    private static bool IsPem(string path)
    {
        using var reader = new StreamReader(path, Encoding.ASCII);
        var start = new char[11];
        return reader.Read(start, 0, start.Length) == start.Length && new string(start) == "-----BEGIN ";
    }

    private static T Read<T>(IConfiguration configuration, string section, IValidateOptions<T> validator) where T : class, new()
    {
        var options = configuration.GetSection(section).Get<T>() ?? new T();
        var result = validator.Validate(null, options);
        if (result.Failed)
        {
            throw new OptionsValidationException(section, typeof(T), result.Failures);
        }

        return options;
    }
}
