# -*- coding: utf-8 -*-
"""Fixtures of the EC2 tests (defined in ec2lib.py): moto server, connection options, boto3 clients."""
from ec2lib import aws, ec2, ec2_copy, moto_url  # noqa: F401  pylint: disable=unused-import
