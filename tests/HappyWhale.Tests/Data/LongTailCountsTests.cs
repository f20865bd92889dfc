namespace HappyWhale.Tests.Data
{
    using HappyWhale.Data.Synthetic;

    public class LongTailCountsTotalTests
    {
        [Theory]
        [InlineData(10, 6.0)]
        [InlineData(3, 8.0)]
        [InlineData(120, 6.0)]
        [InlineData(1000, 4.0)]
        public void The_requested_total_is_always_reached(int individuals, double mean)
        {
            var counts = LongTailCounts.Draw(individuals, mean, new Random(1));
            Assert.Equal((long)Math.Round(individuals * mean), counts.Sum(c => (long)c));
            Assert.All(counts, c => Assert.True(c >= 1));
        }
    }
}
