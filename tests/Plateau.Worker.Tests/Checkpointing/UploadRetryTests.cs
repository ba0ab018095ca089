using Grpc.Core;
using Plateau.Worker.Checkpointing;

namespace Plateau.Worker.Tests.Checkpointing;

public sealed class UploadRetryTests
{
    [Theory]
    [InlineData(StatusCode.Unavailable)]
    [InlineData(StatusCode.Internal)]
    [InlineData(StatusCode.Unknown)]
    [InlineData(StatusCode.Aborted)]
    public void ALostConnectionOrABusyCoordinatorIsContinuedUntilTheLastAttempt(StatusCode code)
    {
        Assert.True(UploadRetry.ShouldContinue(code, 1));
        Assert.True(UploadRetry.ShouldContinue(code, UploadRetry.MaxAttempts - 1));
        Assert.False(UploadRetry.ShouldContinue(code, UploadRetry.MaxAttempts));
    }

    [Theory]
    [InlineData(StatusCode.Unauthenticated)]
    [InlineData(StatusCode.FailedPrecondition)]
    [InlineData(StatusCode.InvalidArgument)]
    [InlineData(StatusCode.NotFound)]
    [InlineData(StatusCode.Cancelled)]
    public void AnAnswerAboutTheRequestItselfIsFinal(StatusCode code) => Assert.False(UploadRetry.ShouldContinue(code, 1));

    [Fact]
    public void TheWaitDoublesFromOneSecondUpToThirtySeconds() =>
        Assert.Equal([1, 2, 4, 8, 16, 30, 30], Enumerable.Range(1, 7).Select(a => UploadRetry.DelayAfter(a).TotalSeconds));

    [Fact]
    public void AnUploadContinuesAtWhatTheCoordinatorHoldsUnlessItHoldsMoreThanTheFile()
    {
        Assert.Equal(1_048_576, UploadRetry.ContinueAt(1_048_576, 3_000_000));
        Assert.Equal(3_000_000, UploadRetry.ContinueAt(3_000_000, 3_000_000));
        Assert.Equal(0, UploadRetry.ContinueAt(3_000_001, 3_000_000));
    }
}
