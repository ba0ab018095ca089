using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Claims;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Plateau.Coordinator.Hosting;
using Plateau.ServiceDefaults;

namespace Plateau.Coordinator.Tests.Api;

/// <summary>
/// The real coordinator host (Program's calls) on free loopback ports with authentication on: one configured
/// token and HS256 JWTs from a test issuer. Clients reach it over HTTP/2 like any deployed caller; grain
/// calls (fake workers joining) go through the host's own IGrainFactory.
/// </summary>
public class ApiHost : IAsyncLifetime
{
    public const string Token = "test-token-0123456789abcdef";
    public const string JwtIssuer = "https://issuer.plateau.test";
    public const string JwtAudience = "plateau-api";
    public static readonly byte[] JwtKey = [.. Enumerable.Range(1, 32).Select(i => (byte)(i * 7))];

    private readonly string _root = Directory.CreateTempSubdirectory("plateau-api-").FullName;
    private readonly Dictionary<string, string?> _extra;
    private WebApplication? _app;

    public ApiHost() : this(new Dictionary<string, string?>()) { }

    protected ApiHost(Dictionary<string, string?> extra) => _extra = extra;

    public int GrpcPort { get; } = FreePort();

    public string Root => _root;

    public virtual string Address => $"http://127.0.0.1:{GrpcPort}";

    public IGrainFactory Grains => _app!.Services.GetRequiredService<IGrainFactory>();

    /// <summary>A host with these settings on top of the defaults (or replacing them).</summary>
    public static async Task<ApiHost> StartAsync(Dictionary<string, string?> extra)
    {
        var host = new ApiHost(extra);
        await host.InitializeAsync();
        return host;
    }

    public async Task InitializeAsync()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Plateau:Cluster:SiloPort"] = Port(),
            ["Plateau:Cluster:GatewayPort"] = Port(),
            ["Plateau:Cluster:ClusterId"] = "api-test-" + Guid.NewGuid().ToString("N")[..6],
            ["Plateau:Coordinator:GrpcPort"] = GrpcPort.ToString(CultureInfo.InvariantCulture),
            ["Plateau:Coordinator:HealthPort"] = "0",
            ["Plateau:Coordinator:StateDirectory"] = Path.Combine(_root, "state"),
            ["Plateau:Coordinator:WatchPollMilliseconds"] = "20",
            ["Plateau:Coordinator:RendezvousGraceSeconds"] = "0.3",
            ["Plateau:Coordinator:WorkerCallTimeoutSeconds"] = "5",
            ["Plateau:Coordinator:KnownModels:0"] = "resnet50",
            ["Plateau:Coordinator:KnownModels:1"] = "se_resnet20_cifar",
            ["Plateau:Api:Auth:Tokens:0"] = Token,
            ["Plateau:Api:Auth:Jwt:Issuer"] = JwtIssuer,
            ["Plateau:Api:Auth:Jwt:Audience"] = JwtAudience,
            ["Plateau:Api:Auth:Jwt:SigningKey"] = Convert.ToBase64String(JwtKey),
            ["Plateau:Checkpoints:RootDirectory"] = Path.Combine(_root, "checkpoints"),
        };
        foreach (var (key, value) in _extra)
        {
            settings[key] = value;
        }

        var builder = WebApplication.CreateBuilder();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(2));
        builder.AddServiceDefaults().AddPlateauCoordinator();
        _app = builder.Build();
        _app.MapDefaultEndpoints();
        _app.MapPlateauCoordinator();
        await _app.StartAsync();
    }

    /// <summary>A channel that sends <paramref name="token"/> as its bearer token (none when null).</summary>
    public virtual GrpcChannel Channel(string? token = Token)
    {
        var options = new GrpcChannelOptions();
        if (token is not null)
        {
            options.Credentials = ChannelCredentials.Create(ChannelCredentials.Insecure, Bearer(token));
            options.UnsafeUseInsecureChannelCallCredentials = true;
        }

        return GrpcChannel.ForAddress(Address, options);
    }

    public Protos.V1.JobService.JobServiceClient Client(string? token = Token) => new(Channel(token));

    public static CallCredentials Bearer(string token) => CallCredentials.FromInterceptor((_, metadata) =>
    {
        metadata.Add("authorization", "Bearer " + token);
        return Task.CompletedTask;
    });

    /// <summary>A JWT signed with <paramref name="key"/> (the configured key by default).</summary>
    public static string Jwt(string subject, string issuer = JwtIssuer, string audience = JwtAudience, byte[]? key = null, TimeSpan? lifetime = null)
    {
        var now = DateTime.UtcNow;
        var expires = now + (lifetime ?? TimeSpan.FromMinutes(10));
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            Subject = new ClaimsIdentity([new Claim("sub", subject)]),
            NotBefore = expires < now ? expires.AddMinutes(-10) : now.AddMinutes(-1),
            IssuedAt = expires < now ? expires.AddMinutes(-10) : now.AddMinutes(-1),
            Expires = expires,
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(key ?? JwtKey), SecurityAlgorithms.HmacSha256),
        });
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        Directory.Delete(_root, recursive: true);
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string Port() => FreePort().ToString(CultureInfo.InvariantCulture);
}
