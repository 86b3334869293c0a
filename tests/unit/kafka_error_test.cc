// The one classification of librdkafka's errors (src/kafka/error.h).
#include "kafka/error.h"

#include <gtest/gtest.h>

namespace kstrand::kafka {
namespace {

TEST(KafkaErrorTest, AFencedOrUnauthorizedProducerStopsAnyOtherFatalOneIsRenewed) {
  for (auto err : {RD_KAFKA_RESP_ERR__FENCED, RD_KAFKA_RESP_ERR_PRODUCER_FENCED,
                   RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH, RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED}) {
    EXPECT_EQ(ClassifyFatalProducerError(err), TxnAction::kStop) << rd_kafka_err2name(err);
  }
  for (auto err : {RD_KAFKA_RESP_ERR_INVALID_TXN_STATE, RD_KAFKA_RESP_ERR__STATE,
                   RD_KAFKA_RESP_ERR_UNKNOWN_PRODUCER_ID}) {
    EXPECT_EQ(ClassifyFatalProducerError(err), TxnAction::kRenewProducer) << rd_kafka_err2name(err);
  }
}

TEST(KafkaErrorTest, AnErrorWithoutFlagsAbortsTheTransaction) {
  // rd_kafka_error_new makes an error that is neither fatal, retriable nor
  // abortable: the open transaction cannot be trusted.
  rd_kafka_error_t* e = rd_kafka_error_new(RD_KAFKA_RESP_ERR__STATE, "test");
  EXPECT_EQ(ClassifyTxnError(e), TxnAction::kAbort);
  rd_kafka_error_destroy(e);
}

TEST(KafkaErrorTest, CommitsAreRetriedWhileTheGroupRebalancesOrItsCoordinatorMoves) {
  for (auto err : {RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS, RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION,
                   RD_KAFKA_RESP_ERR_NOT_COORDINATOR, RD_KAFKA_RESP_ERR__WAIT_COORD,
                   RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS, RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE,
                   RD_KAFKA_RESP_ERR__TIMED_OUT}) {
    EXPECT_TRUE(IsRetriableCommit(err)) << rd_kafka_err2name(err);
  }
  for (auto err : {RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID, RD_KAFKA_RESP_ERR_FENCED_INSTANCE_ID,
                   RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED, RD_KAFKA_RESP_ERR__NO_OFFSET}) {
    EXPECT_FALSE(IsRetriableCommit(err)) << rd_kafka_err2name(err);
  }
  EXPECT_TRUE(IsRebalanceRefusal(RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS));
  EXPECT_FALSE(IsRebalanceRefusal(RD_KAFKA_RESP_ERR_NOT_COORDINATOR));
}

TEST(KafkaErrorTest, CredentialsAndTlsAreFatalForAClientABrokerDownIsNot) {
  EXPECT_TRUE(IsFatalClientError(RD_KAFKA_RESP_ERR__AUTHENTICATION));
  EXPECT_TRUE(IsFatalClientError(RD_KAFKA_RESP_ERR__SSL));
  EXPECT_TRUE(IsFatalClientError(RD_KAFKA_RESP_ERR__FATAL));
  EXPECT_FALSE(IsFatalClientError(RD_KAFKA_RESP_ERR__TRANSPORT));
  EXPECT_FALSE(IsFatalClientError(RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN));
  EXPECT_TRUE(IsUnreachable(RD_KAFKA_RESP_ERR__TRANSPORT));
  EXPECT_TRUE(IsUnreachable(RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN));
  EXPECT_FALSE(IsUnreachable(RD_KAFKA_RESP_ERR__AUTHENTICATION));
  EXPECT_TRUE(IsTimedOut(RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT));
  EXPECT_TRUE(IsTimedOut(RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE));
  EXPECT_FALSE(IsTimedOut(RD_KAFKA_RESP_ERR__TRANSPORT));
}

TEST(KafkaErrorTest, IsComparesTheStatusCode) {
  Status exists = KafkaStatus(RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS, "create topic t");
  EXPECT_TRUE(Is(exists, RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS));
  EXPECT_FALSE(Is(exists, RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE));
  EXPECT_FALSE(Is(Status::Ok(), RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS));
}

}  // namespace
}  // namespace kstrand::kafka
