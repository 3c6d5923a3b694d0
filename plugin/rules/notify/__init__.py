"""Group messages: what crossdept says in Jira, also said in the WeCom, DingTalk or Feishu groups."""
