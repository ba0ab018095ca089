using Plateau.Worker.Hosting;

namespace Plateau.Worker.Tests.Hosting;

public sealed class PooledWorkerSettingTests
{
    [Fact]
    public void Without_a_job_id_the_worker_is_pooled_and_its_settings_are_valid()
    {
        var options = new WorkerOptions { WorkerId = "worker-0" };

        Assert.False(new WorkerOptionsValidator().Validate(null, options).Failed);
        Assert.Equal("", options.JobId);
        Assert.Equal(2, options.PoolPollSeconds);
    }

    [Fact]
    public void A_blank_job_id_is_refused_naming_the_setting()
    {
        var failure = Assert.Single(new WorkerOptionsValidator().Validate(null, new WorkerOptions { WorkerId = "worker-0", JobId = "  " }).Failures!);

        Assert.StartsWith("Plateau:Worker:JobId must be a job id, or empty for a pooled worker", failure, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(double.NaN)]
    public void A_pool_poll_interval_that_is_not_a_positive_number_is_refused_naming_the_setting(double seconds)
    {
        var failure = Assert.Single(new WorkerOptionsValidator().Validate(null, new WorkerOptions { WorkerId = "worker-0", PoolPollSeconds = seconds }).Failures!);

        Assert.StartsWith("Plateau:Worker:PoolPollSeconds must be a positive number of seconds", failure, StringComparison.Ordinal);
    }
}
