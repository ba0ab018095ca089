using Plateau.Worker.Hosting;

namespace Plateau.Deploy.Tests;

/// <summary>Plateau:Worker:HealthPort, the port the worker's probes use in Kubernetes.</summary>
public sealed class WorkerHealthPortTests
{
    private static WorkerOptions Valid() => new() { WorkerId = "plateau-worker-0", JobId = "job", Devices = 8, DataPlanePort = 7000 };

    [Fact]
    public void The_health_endpoint_is_off_by_default_so_many_local_workers_share_a_machine()
    {
        Assert.Equal(0, new WorkerOptions().HealthPort);
        Assert.False(new WorkerOptionsValidator().Validate(null, Valid()).Failed);
    }

    [Theory]
    [InlineData(-1, "between 0 and 65535")]
    [InlineData(70000, "between 0 and 65535")]
    [InlineData(7003, "falls inside the data-plane ports 7000-7007")]
    public void A_health_port_outside_the_range_or_on_a_data_plane_port_is_refused_naming_the_setting(int port, string problem)
    {
        var options = Valid();
        options.HealthPort = port;

        var result = new WorkerOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        var failure = Assert.Single(result.Failures);
        Assert.Contains("Plateau:Worker:HealthPort", failure, StringComparison.Ordinal);
        Assert.Contains(problem, failure, StringComparison.Ordinal);
    }

    [Fact]
    public void A_health_port_next_to_the_data_plane_ports_is_accepted()
    {
        var options = Valid();
        options.HealthPort = 7008;

        Assert.False(new WorkerOptionsValidator().Validate(null, options).Failed);
    }
}
