package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// publisher announces acknowledged orders: a message on the queue and, when
// a bucket is configured, a receipt object.
type publisher struct {
	sqs      *sqs.Client
	s3       *s3.Client
	queueURL string
	bucket   string
}

func newPublisher(ctx context.Context, cfg config) (*publisher, error) {
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx,
		awsconfig.WithRegion(cfg.AWSRegion),
		awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(cfg.AWSAccessKey, cfg.AWSSecretKey, "")),
		// Configuration comes from the environment only: a developer's
		// ~/.aws must not change what a rehearsal measures.
		awsconfig.WithSharedConfigFiles([]string{}),
		awsconfig.WithSharedCredentialsFiles([]string{}),
	)
	if err != nil {
		return nil, fmt.Errorf("aws config: %w", err)
	}
	// The SDK's default (standard) retryer, with the attempts the profile gives
	// (its own default: 3); AWS_TIMEOUT_MS bounds each attempt, as the PHP
	// service's HTTP client does, so a timed-out attempt is retried like a throttle.
	httpClient := awshttp.NewBuildableClient().WithTimeout(cfg.AWSTimeout)
	return &publisher{
		sqs: sqs.NewFromConfig(awsCfg, func(o *sqs.Options) {
			o.BaseEndpoint = aws.String(cfg.AWSEndpoint)
			o.HTTPClient = httpClient
			o.RetryMaxAttempts = cfg.AWSMaxAttempts
		}),
		s3: s3.NewFromConfig(awsCfg, func(o *s3.Options) {
			o.BaseEndpoint = aws.String(cfg.AWSEndpoint)
			o.HTTPClient = httpClient
			o.RetryMaxAttempts = cfg.AWSMaxAttempts
			o.UsePathStyle = true
			// Plain checksummed PUTs, not aws-chunked streaming: simpler for
			// the fault point that sits between us and LocalStack.
			o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		}),
		queueURL: cfg.QueueURL,
		bucket:   cfg.Bucket,
	}, nil
}

// PublishOrder is called again for every replay of the order's key, so both
// writes must be safe to repeat: the receipt is overwritten with the same
// bytes, and the queue is at-least-once anyway.
func (p *publisher) PublishOrder(ctx context.Context, o Order) error {
	body, err := json.Marshal(o)
	if err != nil {
		return err
	}
	// The receipt goes first: when it fails, no message has been sent yet,
	// so the client's retry does not leave a duplicate on the queue.
	if p.bucket != "" {
		_, err := p.s3.PutObject(ctx, &s3.PutObjectInput{
			Bucket:      aws.String(p.bucket),
			Key:         aws.String("receipts/" + strconv.FormatInt(o.OrderID, 10) + ".json"),
			Body:        bytes.NewReader(body),
			ContentType: aws.String("application/json"),
		})
		if err != nil {
			return fmt.Errorf("s3 receipt: %w", err)
		}
	}
	_, err = p.sqs.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:    aws.String(p.queueURL),
		MessageBody: aws.String(string(body)),
	})
	if err != nil {
		return fmt.Errorf("sqs: %w", err)
	}
	return nil
}
