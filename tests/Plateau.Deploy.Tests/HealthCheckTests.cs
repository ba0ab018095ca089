using k8s.Models;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Plateau.Cli.Commands;
using Plateau.Cli.Commands.Health;
using Plateau.ServiceDefaults;

namespace Plateau.Deploy.Tests;

/// <summary>
/// <c>plateau health</c>, the image's HEALTHCHECK: it finds the port from the main process's role and settings, as the
/// hosts read them, and passes for a role that serves no health endpoint.
/// </summary>
public sealed class HealthCheckTests
{
    private static readonly Dictionary<string, string> NoEnvironment = [];

    public static TheoryData<string, string, string> Roles => new()
    {
        { "cpu-dev", "plateau-coordinator", "coordinator" },
        { "cpu-dev", "plateau-worker", "worker" },
        { "gpu", "plateau-coordinator", "coordinator" },
        { "gpu", "plateau-worker", "worker" },
    };

    [Theory]
    [MemberData(nameof(Roles))]
    public void In_the_manifests_pods_it_asks_alive_on_the_port_of_the_liveness_probe(string name, string set, string container)
    {
        var overlay = Overlay.Render(name);
        var statefulSet = overlay.One<V1StatefulSet>(set);
        var spec = ContainerSettings.Container(statefulSet, container);
        var environment = ContainerSettings.Environment(overlay, statefulSet, spec);

        var target = HealthTarget.Of(["/app/plateau", .. spec.Args], environment, "/app");

        var probe = spec.LivenessProbe.HttpGet;
        Assert.Equal(spec.Ports.Single(p => p.Name == probe.Port.Value).ContainerPort, target.Address?.Port);
        Assert.Equal(probe.Path, target.Address?.AbsolutePath);
        Assert.Equal("127.0.0.1", target.Address?.Host);
    }

    [Fact]
    public void A_coordinator_without_settings_is_asked_on_its_default_health_port()
    {
        var target = HealthTarget.Of(["/app/plateau", "coordinator"], NoEnvironment, null);

        Assert.Equal(new Uri("http://127.0.0.1:5101/alive"), target.Address);
    }

    [Fact]
    public async Task A_worker_started_without_a_health_port_passes_saying_which_setting_is_0()
    {
        var target = HealthTarget.Of(["/app/plateau", "worker", "--Plateau:Worker:JobId=job-1"], NoEnvironment, null);

        Assert.Null(target.Address);
        Assert.Contains("Plateau:Worker:HealthPort is 0", target.Reason, StringComparison.Ordinal);
        Assert.Equal(0, await HealthCommand.CheckAsync(target, TimeSpan.FromSeconds(1), TextWriter.Null, CancellationToken.None));
    }

    [Theory]
    [InlineData("job")]
    [InlineData("models")]
    [InlineData("local")]
    public void The_CLI_s_other_verbs_serve_no_health_endpoint_and_pass(string verb)
    {
        var target = HealthTarget.Of(["/app/plateau", verb, "--help"], NoEnvironment, null);

        Assert.Null(target.Address);
        Assert.Equal($"plateau {verb} serves no health endpoint", target.Reason);
    }

    [Fact]
    public void A_PLATEAU_variable_wins_over_an_argument_which_wins_over_appsettings_as_in_the_hosts()
    {
        var folder = Directory.CreateTempSubdirectory("plateau-health-");
        try
        {
            File.WriteAllText(Path.Combine(folder.FullName, "appsettings.json"), """{"Plateau":{"Worker":{"HealthPort":6100,"DataPlaneListenHost":"10.1.2.3"}}}""");
            string[] worker = ["/app/plateau", "worker"];

            Assert.Equal(new Uri("http://10.1.2.3:6100/alive"), HealthTarget.Of(worker, NoEnvironment, folder.FullName).Address);
            Assert.Equal(6101, HealthTarget.Of([.. worker, "--Plateau:Worker:HealthPort=6101"], NoEnvironment, folder.FullName).Address?.Port);
            var environment = new Dictionary<string, string> { ["PLATEAU_Plateau__Worker__HealthPort"] = "6102", ["PLATEAU_Plateau__Worker__DataPlaneListenHost"] = "0.0.0.0" };
            Assert.Equal(new Uri("http://127.0.0.1:6102/alive"), HealthTarget.Of([.. worker, "--Plateau:Worker:HealthPort=6101"], environment, folder.FullName).Address);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task It_passes_while_the_endpoint_answers_and_fails_once_it_is_gone()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.AddServiceDefaults().AddHealthEndpoint("127.0.0.1", 0);
        using var host = builder.Build();
        await host.StartAsync();
        var address = host.Services.GetRequiredService<HealthEndpointServer>().Address!;
        var target = new HealthTarget(new Uri(address, ServiceDefaultsExtensions.AlivePath), "test endpoint");
        var output = new StringWriter();

        Assert.Equal(0, await HealthCommand.CheckAsync(target, TimeSpan.FromSeconds(30), output, CancellationToken.None));
        await host.StopAsync();
        Assert.Equal(1, await HealthCommand.CheckAsync(target, TimeSpan.FromSeconds(30), output, CancellationToken.None));
        Assert.Contains("unhealthy: GET " + target.Address, output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void The_main_process_s_arguments_and_environment_are_read_from_proc()
    {
        var process = MainProcess.Read(Environment.ProcessId);

        Assert.Equal(Environment.GetCommandLineArgs().Length > 0, process.Arguments.Count > 0);
        Assert.Equal(Environment.GetEnvironmentVariable("PATH"), process.Environment.GetValueOrDefault("PATH"));
        Assert.Equal(Path.TrimEndingDirectorySeparator(Environment.CurrentDirectory), process.WorkingDirectory);
    }
}
